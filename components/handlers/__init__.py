"""Source directories of the functions the program deploys (each zipped on its own)."""
