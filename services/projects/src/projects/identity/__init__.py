"""Identity provider: users and API keys, and the access tokens the other services verify."""
