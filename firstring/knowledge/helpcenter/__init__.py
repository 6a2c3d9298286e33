"""The public help center: one per brand, served under /<prefix>/ to anonymous visitors."""
