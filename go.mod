module github.com/signalforgo/signal

go 1.26.8
