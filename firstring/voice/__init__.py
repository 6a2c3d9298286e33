"""The phone: calls as conversations, a self-service menu per number, telephony gateways, call metrics."""
