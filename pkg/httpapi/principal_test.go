package httpapi

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/signalforgo/signal/pkg/signal"
)

// The request contexts below are what API Gateway and function URLs send
// (as in aws-lambda-go's testdata and AWS's documentation), cut to the
// parts that say who the caller is.

// TestPrincipalV2: the caller of HTTP API (payload 2.0) events, from each
// kind of authorizer, and none without one.
func TestPrincipalV2(t *testing.T) {
	cases := []struct {
		name string
		auth AuthConfig
		rc   string // requestContext
		want *signal.Principal
	}{
		{"no authorizer", AuthConfig{}, `{"requestId":"id","http":{"method":"GET"}}`, nil},
		{"JWT: Cognito access token, groups as API Gateway writes arrays", AuthConfig{}, `{"authorizer":{"jwt":{
			"claims":{"sub":"7f2b5c1e-a3d4-4e5f-8a9b-0c1d2e3f4a5b","iss":"https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC","client_id":"3n4b5","cognito:groups":"[admin ops]","scope":"carts/read carts/write","token_use":"access"},
			"scopes":["carts/read","carts/write"]}}}`,
			&signal.Principal{Subject: "7f2b5c1e-a3d4-4e5f-8a9b-0c1d2e3f4a5b", Issuer: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC",
				Scopes: []string{"carts/read", "carts/write"}, Groups: []string{"admin", "ops"},
				Claims: map[string]string{"sub": "7f2b5c1e-a3d4-4e5f-8a9b-0c1d2e3f4a5b", "iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC", "client_id": "3n4b5", "cognito:groups": "[admin ops]", "scope": "carts/read carts/write", "token_use": "access"}}},
		{"JWT: scp, a tenant and groups of their own claims", AuthConfig{TenantClaim: "custom:tenant", GroupsClaim: "groups"}, `{"authorizer":{"jwt":{
			"claims":{"sub":"alice","iss":"https://idp.example","scp":"[read write]","custom:tenant":"acme","groups":"[eng]","cognito:groups":"[ignored]"}}}}`,
			&signal.Principal{Subject: "alice", Issuer: "https://idp.example", Tenant: "acme", Scopes: []string{"read", "write"}, Groups: []string{"eng"},
				Claims: map[string]string{"sub": "alice", "iss": "https://idp.example", "scp": "[read write]", "custom:tenant": "acme", "groups": "[eng]", "cognito:groups": "[ignored]"}}},
		{"JWT: scopes listed only by the authorizer, one group", AuthConfig{}, `{"authorizer":{"jwt":{"claims":{"sub":"bob","cognito:groups":"admin"},"scopes":["openid"]}}}`,
			&signal.Principal{Subject: "bob", Scopes: []string{"openid"}, Groups: []string{"admin"}, Claims: map[string]string{"sub": "bob", "cognito:groups": "admin"}}},
		{"JWT without sub", AuthConfig{}, `{"authorizer":{"jwt":{"claims":{"iss":"https://idp.example"},"scopes":["a"]}}}`, nil},
		{"IAM: a user, tenant by account", AuthConfig{TenantClaim: "accountId"}, `{"authorizer":{"iam":{
			"accessKey":"ASIAEXAMPLE","accountId":"111122223333","callerId":"AIDAEXAMPLE","cognitoIdentity":null,
			"principalOrgId":"o-abc123","userArn":"arn:aws:iam::111122223333:user/ci","userId":"AIDAEXAMPLE"}}}`,
			&signal.Principal{Subject: "arn:aws:iam::111122223333:user/ci", Tenant: "111122223333",
				Claims: map[string]string{"userArn": "arn:aws:iam::111122223333:user/ci", "accountId": "111122223333", "callerId": "AIDAEXAMPLE", "principalOrgId": "o-abc123", "userId": "AIDAEXAMPLE"}}},
		{"IAM: Cognito identity pool credentials", AuthConfig{}, `{"authorizer":{"iam":{
			"accessKey":"ARIA2ZJZYVUEREEIHAKY","accountId":"1234567890","callerId":"AROA7ZJZYVRE7C3DUXHH6:CognitoIdentityCredentials",
			"cognitoIdentity":{"amr":["foo"],"identityId":"us-east-1:3f291106","identityPoolId":"us-east-1:4f291106"},
			"principalOrgId":"AwsOrgId","userArn":"arn:aws:iam::1234567890:user/Admin","userId":"AROA2ZJZYVRE7Y3TUXHH6"}}}`,
			&signal.Principal{Subject: "arn:aws:iam::1234567890:user/Admin",
				Claims: map[string]string{"userArn": "arn:aws:iam::1234567890:user/Admin", "accountId": "1234567890", "callerId": "AROA7ZJZYVRE7C3DUXHH6:CognitoIdentityCredentials",
					"principalOrgId": "AwsOrgId", "userId": "AROA2ZJZYVRE7Y3TUXHH6", "cognitoIdentityId": "us-east-1:3f291106", "cognitoIdentityPoolId": "us-east-1:4f291106"}}},
		{"Lambda authorizer: sub, a tenant, typed context values", AuthConfig{TenantClaim: "tenant"}, `{"authorizer":{"lambda":{"sub":"carol","tenant":"acme","admin":true,"level":3,"cognito:groups":"a,b"}}}`,
			&signal.Principal{Subject: "carol", Tenant: "acme", Groups: []string{"a", "b"},
				Claims: map[string]string{"sub": "carol", "tenant": "acme", "admin": "true", "level": "3", "cognito:groups": "a,b"}}},
		{"Lambda authorizer: principalId", AuthConfig{}, `{"authorizer":{"lambda":{"principalId":"user|dave"}}}`,
			&signal.Principal{Subject: "user|dave", Claims: map[string]string{"principalId": "user|dave"}}},
		{"Lambda authorizer: a context without a subject", AuthConfig{}, `{"authorizer":{"lambda":{"key":"value"}}}`, nil},
	}
	for _, tc := range cases {
		var rc events.APIGatewayV2HTTPRequestContext
		if err := json.Unmarshal([]byte(tc.rc), &rc); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		checkPrincipal(t, tc.name, tc.auth.principalV2(rc.Authorizer), tc.want)
	}
}

// TestPrincipalV1: the caller of REST API (payload 1.0) events: a
// Cognito user pool authorizer's claims, a Lambda authorizer's
// principalId and context, an IAM caller's identity; none for an open
// method (an API key alone names no caller).
func TestPrincipalV1(t *testing.T) {
	openIdentity := `"identity":{"sourceIp":"203.0.113.7","userAgent":"curl/8.0","apiKey":"k","apiKeyId":"kid","userArn":null,"caller":null,"accountId":null}`
	cases := []struct {
		name string
		auth AuthConfig
		rc   string
		want *signal.Principal
	}{
		{"open method", AuthConfig{}, `{"requestId":"id",` + openIdentity + `}`, nil},
		{"open method, null authorizer", AuthConfig{}, `{"authorizer":null,` + openIdentity + `}`, nil},
		{"Cognito user pool authorizer: claims as strings, groups joined with commas", AuthConfig{TenantClaim: "custom:tenant"}, `{"authorizer":{"claims":{
			"sub":"7f2b5c1e","iss":"https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC","cognito:username":"alice","cognito:groups":"admin,ops",
			"custom:tenant":"acme","email_verified":"true","auth_time":"1745248101","token_use":"id"}},` + openIdentity + `}`,
			&signal.Principal{Subject: "7f2b5c1e", Issuer: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC", Tenant: "acme", Groups: []string{"admin", "ops"},
				Claims: map[string]string{"sub": "7f2b5c1e", "iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC", "cognito:username": "alice", "cognito:groups": "admin,ops",
					"custom:tenant": "acme", "email_verified": "true", "auth_time": "1745248101", "token_use": "id"}}},
		{"HTTP API payload 1.0 JWT authorizer: claims and scopes", AuthConfig{}, `{"authorizer":{"claims":{"sub":"bob","scope":"openid carts/read","cognito:groups":"[a b]"},"scopes":["carts/read","extra"]}}`,
			&signal.Principal{Subject: "bob", Scopes: []string{"openid", "carts/read", "extra"}, Groups: []string{"a", "b"},
				Claims: map[string]string{"sub": "bob", "scope": "openid carts/read", "cognito:groups": "[a b]"}}},
		{"Cognito claims without sub: no caller, not the identity's", AuthConfig{}, `{"authorizer":{"claims":{"iss":"x"}},"identity":{"userArn":"arn:aws:iam::1:user/x"}}`, nil},
		{"Lambda authorizer: principalId and context (aws-lambda-go testdata)", AuthConfig{}, `{"authorizer":{"principalId":"admin","clientId":1,"clientName":"Exata","integrationLatency":12},` + openIdentity + `}`,
			&signal.Principal{Subject: "admin", Claims: map[string]string{"principalId": "admin", "clientId": "1", "clientName": "Exata"}}},
		{"Lambda authorizer: sub in the context wins", AuthConfig{TenantClaim: "tenant"}, `{"authorizer":{"principalId":"key-7","sub":"erin","tenant":"globex"}}`,
			&signal.Principal{Subject: "erin", Tenant: "globex", Claims: map[string]string{"principalId": "key-7", "sub": "erin", "tenant": "globex"}}},
		{"IAM: the caller in the identity", AuthConfig{}, `{"identity":{"accountId":"111122223333","caller":"AIDAEXAMPLE","accessKey":"ASIAEXAMPLE",
			"sourceIp":"203.0.113.7","userArn":"arn:aws:iam::111122223333:user/ci","user":"AIDAEXAMPLE","userAgent":"aws-sdk-go-v2"}}`,
			&signal.Principal{Subject: "arn:aws:iam::111122223333:user/ci",
				Claims: map[string]string{"userArn": "arn:aws:iam::111122223333:user/ci", "accountId": "111122223333", "caller": "AIDAEXAMPLE", "user": "AIDAEXAMPLE"}}},
	}
	for _, tc := range cases {
		var rc events.APIGatewayProxyRequestContext
		if err := json.Unmarshal([]byte(tc.rc), &rc); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		checkPrincipal(t, tc.name, tc.auth.principalV1(&rc), tc.want)
	}
}

// TestPrincipalFunctionURL: a function URL's caller with AuthType
// AWS_IAM; none with AuthType NONE.
func TestPrincipalFunctionURL(t *testing.T) {
	cases := []struct {
		name, rc string
		want     *signal.Principal
	}{
		{"AuthType NONE", `{"accountId":"anonymous","requestId":"id","http":{"method":"GET"}}`, nil},
		{"AuthType AWS_IAM (aws-lambda-go testdata)", `{"accountId":"123456789012","authorizer":{"iam":{"accessKey":"AKIA...","accountId":"111122223333",
			"callerId":"AIDA...","userArn":"arn:aws:iam::111122223333:user/example-user","userId":"AIDA..."}}}`,
			&signal.Principal{Subject: "arn:aws:iam::111122223333:user/example-user",
				Claims: map[string]string{"userArn": "arn:aws:iam::111122223333:user/example-user", "accountId": "111122223333", "callerId": "AIDA...", "userId": "AIDA..."}}},
		{"an authorizer without iam", `{"authorizer":{}}`, nil},
	}
	for _, tc := range cases {
		var rc events.LambdaFunctionURLRequestContext
		if err := json.Unmarshal([]byte(tc.rc), &rc); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		checkPrincipal(t, tc.name, AuthConfig{}.principalFunctionURL(rc.Authorizer), tc.want)
	}
}

// TestClaimList: every form a list claim arrives in.
func TestClaimList(t *testing.T) {
	cases := []struct {
		in   string
		sep  rune
		want []string
	}{
		{"", ',', nil},
		{"admin", ',', []string{"admin"}},
		{"admin,ops", ',', []string{"admin", "ops"}},
		{" admin , ops ,", ',', []string{"admin", "ops"}},
		{"[admin ops]", ',', []string{"admin", "ops"}},
		{"[admin, ops]", ',', []string{"admin", "ops"}},
		{`["admin","ops"]`, ',', []string{"admin", "ops"}},
		{"[]", ',', nil},
		{"read write\tadmin", ' ', []string{"read", "write", "admin"}},
		{"[read write]", ' ', []string{"read", "write"}},
	}
	for _, tc := range cases {
		got := claimList(tc.in, tc.sep)
		if len(got) == 0 && len(tc.want) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("claimList(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func checkPrincipal(t *testing.T, name string, got, want *signal.Principal) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", name, got, want)
	}
}
