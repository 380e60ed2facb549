"""GraphQL object types, one module per area, built from the frozen domain dataclasses."""
