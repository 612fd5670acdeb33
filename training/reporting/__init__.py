"""The topic report of a run: its inputs read back and measured (analysis), drawn (render), and
the Report topics job (`python -m training.report`)."""
