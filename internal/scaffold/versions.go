package scaffold

// The versions a generated project pins. Each equals what this repository
// uses, and a test keeps them equal, so a generated project runs with the
// tools the framework is tested with.
const (
	// GoVersion is the go line of the generated go.mod files: this
	// module's, since a module may not declare less than what it requires.
	GoVersion = "1.26.8"
	// RIEVersion is aws-lambda-rie's, as in the Makefile and
	// pkg/lambdatest.RIEVersion.
	RIEVersion = "v0.0.0-20261030222936-bef5c4ba774d"
	// CDKCLIVersion is the aws-cdk npm package's, as in infra/package.json.
	CDKCLIVersion = "2.1148.1"
	// CDKLocalVersion is the aws-cdk-local npm package's, as in
	// localstack/package.json.
	CDKLocalVersion = "3.0.4"
)

// SignalModule is the framework's module path; its CDK construct is in
// SignalModule + "/infra", a module of its own.
const SignalModule = "github.com/signalforgo/signal"

// develVersion is the version a replaced requirement names: any will do,
// since the replace directive decides.
const develVersion = "v0.0.0-00010101000000-000000000000"
