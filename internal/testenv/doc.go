// Package testenv gives tests real PostgreSQL, Redis, NATS and RabbitMQ connections,
// isolated from every other test where the server allows it.
//
// [Postgres] returns a pool whose connections use a fresh, uniquely named
// schema that is dropped when the test ends; [Redis] returns a client and a
// unique key prefix whose keys are deleted when the test ends. Both read the
// server address from BEDROCK_POSTGRES_URL and BEDROCK_REDIS_URL, falling back
// to the local default ports. [RedisCluster] does for a Redis Cluster what
// [Redis] does for one server, on the nodes named by
// BEDROCK_REDIS_CLUSTER_ADDRS (default 127.0.0.1:7000 to 7005, the cluster
// `.ci/run` starts); [StartRedisCluster] starts a private cluster on free
// ports for a test that breaks it.
//
// When a server cannot be reached the test fails if the environment variable
// CI is set, so that a missing service can never pass CI as a skipped test,
// and is skipped with instructions otherwise. [Chromium] applies the same
// rule to the browser that end-to-end browser tests drive.
package testenv
