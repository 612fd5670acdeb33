"""A client for the pipeline's endpoint: raw documents in, topic weights and dominant topics out.

    python -m ntm_client topics --endpoint NAME --input docs.jsonl [--topics report/topics.json]

Needs boto3 only (and AWS credentials allowed sagemaker:InvokeEndpoint and DescribeEndpoint).
"""
