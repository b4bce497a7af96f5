"""The local read model of projects and departments, fed only by the projects service's events."""
