"""Publication: tables, report content, charts, workbook, HTML/PDF and notebooks."""
