"""Projects of the strategies, their lifecycle stages and the history of transitions."""
