package console_test

import "github.com/signalforgo/signal/internal/testbank"

// bankApp is the bank of these tests, with what the console shows of any
// app: a genesis command, fields of several JSON types (an optional one
// among them), a domain refusal, an internal command (account's Freeze),
// a type whose only command is internal (audit), and a view (balances).
// No letters: the console lists exactly two types.
var bankApp = testbank.App(testbank.WithoutLetters(), testbank.WithAudit())
