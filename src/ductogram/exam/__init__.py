"""The exam: screening, preparation, cannulation, contrast filling, complications, aftercare."""
