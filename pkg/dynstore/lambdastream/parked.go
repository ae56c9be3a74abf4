package lambdastream

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/signalforgo/signal/pkg/signal"
)

// ParkedMessage is the body of the message ParkedNotifier sends: the
// subscriber, the stream and the version it stopped at, the error.
// Replay it with `signal parked replay SUBSCRIBER TYPE ID` (or
// Service.Replay) once the cause is fixed.
type ParkedMessage struct {
	// Kind is always "signal.parked", to tell these messages from the
	// batch records Lambda sends to the same queue when it gives up.
	Kind       string    `json:"kind"`
	Subscriber string    `json:"subscriber"`
	Stream     string    `json:"stream"`
	Type       string    `json:"type"`
	ID         string    `json:"id"`
	Version    int64     `json:"version"`
	Attempts   int       `json:"attempts"`
	Error      string    `json:"error"`
	Time       time.Time `json:"time"`
}

// ParkedKind is ParkedMessage.Kind.
const ParkedKind = "signal.parked"

// SendMessageAPI is the part of the SQS client ParkedNotifier uses.
type SendMessageAPI interface {
	SendMessage(context.Context, *sqs.SendMessageInput, ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// ParkedNotifier returns a signal.Config.OnPark that sends a
// ParkedMessage to the SQS queue at queueURL (the projector's dead-letter
// queue), so a parked subscriber shows in the same place, and raises the
// same alarm, as a batch Lambda gave up on. A failure to send is logged:
// the failure stays recorded beside the checkpoint (Service.Failures,
// `signal parked`) either way.
func ParkedNotifier(client SendMessageAPI, queueURL string, logger *slog.Logger) func(context.Context, signal.Failure) {
	if logger == nil {
		logger = slog.Default()
	}
	return func(ctx context.Context, f signal.Failure) {
		body, err := json.Marshal(ParkedMessage{Kind: ParkedKind, Subscriber: f.Subscriber, Stream: f.Stream.String(),
			Type: f.Stream.Type, ID: f.Stream.ID, Version: f.Version, Attempts: f.Attempts, Error: f.Error, Time: f.Time})
		if err == nil {
			_, err = client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: aws.String(string(body))})
		}
		if err != nil {
			logger.ErrorContext(ctx, "projector: could not send the parked notice to the dead-letter queue",
				"subscriber", f.Subscriber, "stream", f.Stream.String(), "version", f.Version, "error", err)
		}
	}
}
