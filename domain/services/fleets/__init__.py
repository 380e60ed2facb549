"""Fleet contracts (フリート契約): create, add and remove cars, review the fleet rate."""
