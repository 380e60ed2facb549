"""Contracts: quote, changes, endings, parties and their reads (use cases in `cases`)."""
