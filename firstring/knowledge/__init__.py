"""The knowledge base and the public help center.

Articles are written in Markdown and stored twice per language: the working copy that editors change
(draft → review → publish) and the live copy that visitors read, rendered and sanitised when it was
published. Every saved change is a version that can be compared and restored. Published articles are
copied into `SearchEntry`, the only table search reads, so drafts can never be found.
"""
