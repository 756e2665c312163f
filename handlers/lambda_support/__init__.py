"""What only a Lambda function needs: settings from its environment, its boto3 clients,
Powertools' Logger/Tracer/Metrics, and the API functions' HTTP plumbing."""
