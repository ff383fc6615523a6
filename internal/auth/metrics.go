package auth

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Labels of metricCacheLookups.
const (
	cacheHit    = "hit"
	cacheMiss   = "miss"
	cacheShared = "shared" // a miss that waited for the same verification in flight
)

// Labels of metricHashes: what an argon2id computation was for.
const (
	hashOpHash   = "hash"   // a new hash (user add, passwd, upgrade)
	hashOpVerify = "verify" // a password checked against a stored hash
	hashOpDummy  = "dummy"  // an unknown user or an account without a password
)

var (
	metricCacheLookups = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "postern_auth_cache_lookups_total",
		Help: "Verified-credentials cache lookups by password logins, by result (hit: no hash computed; miss: a full verification followed; shared: after a miss, the verification of another attempt with the same credentials, running at the time, answered).",
	}, []string{"result"})
	metricCacheEntries = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "postern_auth_cache_entries",
		Help: "Accounts whose verified credentials the cache holds now.",
	})
	metricHashes = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "postern_auth_password_hashes_total",
		Help: "argon2id computations, by what they were for: hash, verify or dummy.",
	}, []string{"op"})
	metricHashesInFlight = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "postern_auth_password_hashes_in_flight",
		Help: "argon2id computations running now; each holds its memory parameter (64 MiB by default).",
	})
	metricMemoryReturns = promauto.NewCounter(prometheus.CounterOpts{
		Name: "postern_auth_memory_returns_total",
		Help: "Times the argon2id memory of a burst of logins was returned to the operating system once the hash queue emptied.",
	})
)
