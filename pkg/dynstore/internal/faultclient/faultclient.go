// Package faultclient builds the DynamoDB and DynamoDB Streams clients
// the fault tests of pkg/dynstore and its subpackages send through a
// faultproxy.Proxy, so that every package's fault scenarios run on the
// same client settings.
//
// It imports no dynstore package on purpose: dynstore's own (in-package)
// tests use it, and an import of dynstore here would be a cycle. The
// caller passes a container's client options (dynstore.ClientOptions).
package faultclient

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/signalforgo/signal/internal/faultproxy"
	"github.com/signalforgo/signal/pkg/dynstore/dynamotest/motoserver"
)

// attemptTimeout bounds each HTTP attempt, so that a response the proxy
// holds back fails the attempt instead of the whole test.
const attemptTimeout = 5 * time.Second

// DynamoDB returns a DynamoDB client as a container builds it (container,
// normally dynstore.ClientOptions), on moto_server's configuration
// (motoserver.Config, which fails or skips t as it says), sending to p,
// with faultproxy.Retryer(attempts) and attemptTimeout per attempt. It
// never fails on its own.
func DynamoDB(t testing.TB, p *faultproxy.Proxy, attempts int, container func(*dynamodb.Options)) *dynamodb.Client {
	return dynamodb.NewFromConfig(motoserver.Config(t), container, func(o *dynamodb.Options) {
		// Here, not in the aws.Config: the config's own endpoint
		// setting would win over aws.Config.BaseEndpoint.
		o.BaseEndpoint = aws.String(p.URL())
		o.Retryer = faultproxy.Retryer(attempts)
		o.HTTPClient = awshttp.NewBuildableClient().WithTimeout(attemptTimeout)
	})
}

// Streams returns a DynamoDB Streams client on moto_server's
// configuration (motoserver.Config, which fails or skips t as it says),
// sending to p, with faultproxy.Retryer(attempts) and attemptTimeout per
// attempt. It never fails on its own.
func Streams(t testing.TB, p *faultproxy.Proxy, attempts int) *dynamodbstreams.Client {
	return dynamodbstreams.NewFromConfig(motoserver.Config(t), func(o *dynamodbstreams.Options) {
		o.BaseEndpoint = aws.String(p.URL())
		o.Retryer = faultproxy.Retryer(attempts)
		o.HTTPClient = awshttp.NewBuildableClient().WithTimeout(attemptTimeout)
	})
}
