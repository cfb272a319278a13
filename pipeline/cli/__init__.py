"""Command-line edge: every `pulsecheck` command, turning catalogue errors into exit codes."""
