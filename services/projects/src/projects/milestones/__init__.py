"""Dated milestones of projects, reaching them, and the scheduler that marks them missed."""
