"""Connected network accounts (and manual channels) of an authority."""
