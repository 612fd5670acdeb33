"""What every job shares: command-line option types, the input-error type, s3:// staging.

Used by all the processing jobs (preparation, comparison, report); imports nothing else of training.
"""
