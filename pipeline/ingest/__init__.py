"""Reading files: instruments, platform profiles, wave folders and survey exports."""
