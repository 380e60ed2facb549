"""Agencies (代理店): registered by insurer staff, read by whoever deals with them.

The lowest part: contracts name their agency, so every other part may import this one.
"""
