"""Strategy documents → curated dataset → running stack."""
