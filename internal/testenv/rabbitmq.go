package testenv

import (
	amqp "github.com/rabbitmq/amqp091-go"
)

// DefaultRabbitMQURL is the RabbitMQ server the tests use when
// BEDROCK_RABBITMQ_URL is unset: the local broker with its default user.
const DefaultRabbitMQURL = "amqp://guest:guest@127.0.0.1:5672/"

// RabbitMQURLEnv points the tests at another RabbitMQ server.
const RabbitMQURLEnv = "BEDROCK_RABBITMQ_URL"

// RabbitMQURL returns the RabbitMQ URL the tests use.
func RabbitMQURL() string { return envOr(RabbitMQURLEnv, DefaultRabbitMQURL) }

// RabbitMQ returns a connection to the test RabbitMQ server and its URL; the
// connection is closed when the test ends. Like Postgres and Redis, it fails
// the test when the server is unreachable and CI is set, and skips it
// otherwise. Tests isolate themselves with names from [UniqueName] for
// their exchanges and queues, and delete them when they end.
func RabbitMQ(t TB) (*amqp.Connection, string) {
	t.Helper()
	url := RabbitMQURL()
	conn, err := amqp.DialConfig(url, amqp.Config{Dial: amqp.DefaultDial(connectTimeout)})
	if err != nil {
		unavailable(t, "RabbitMQ", url, err, "rabbitmq-server -detached")
		return nil, ""
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn, url
}
