"""Read models of departments, coordinators, projects and indicators, fed only by events."""
