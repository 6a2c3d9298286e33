"""The listening pages, one module per part: the inbox, analytics, the monitor editor."""
