package cli

import (
	"testing"
)

// TestAWSConfigReadsRunsEnvironment: the region and credentials of a
// DynamoDB endpoint come from Run's getenv, not the process's.
func TestAWSConfigReadsRunsEnvironment(t *testing.T) {
	for name, tc := range map[string]struct {
		env           map[string]string
		region, keyID string
		secret, token string
	}{
		"nothing set: local defaults": {nil, "us-east-1", "test", "test", ""},
		"region":                      {map[string]string{"AWS_REGION": "eu-west-1"}, "eu-west-1", "test", "test", ""},
		"default region":              {map[string]string{"AWS_DEFAULT_REGION": "ap-south-1"}, "ap-south-1", "test", "test", ""},
		"keys": {map[string]string{"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "s3cret", "AWS_SESSION_TOKEN": "tok"},
			"us-east-1", "AKIDEXAMPLE", "s3cret", "tok"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv("AWS_REGION", "process-region") // must not be what counts
			t.Setenv("AWS_ACCESS_KEY_ID", "process-key")
			cfg, err := awsConfig(t.Context(), "http://127.0.0.1:1", func(k string) string { return tc.env[k] })
			if err != nil {
				t.Fatal(err)
			}
			creds, err := cfg.Credentials.Retrieve(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Region != tc.region || creds.AccessKeyID != tc.keyID || creds.SecretAccessKey != tc.secret || creds.SessionToken != tc.token {
				t.Errorf("region %q, credentials %q/%q/%q; want %q, %q/%q/%q", cfg.Region, creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken,
					tc.region, tc.keyID, tc.secret, tc.token)
			}
		})
	}
}
