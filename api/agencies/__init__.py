"""Agencies over GraphQL: the type, the `agencies` list and `createAgency`."""
