package simnet

import (
	"math/rand/v2"
)

// Every random choice of the world is drawn from a generator seeded by the
// scenario's seed and the names of what is being decided (an item, a
// purpose), never from one shared stream: a decision then does not depend
// on the order in which requests arrive, and the same seed gives the same
// world and the same provider decisions in every run.

// mix64 is SplitMix64's finaliser: a cheap, well-spread 64-bit hash.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// fnv64 hashes a string with FNV-1a: fixed across processes, unlike
// hash/maphash.
func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// key combines a seed with what is decided: purpose names the decision,
// ids the things it is about.
func key(seed uint64, purpose string, ids ...uint64) uint64 {
	h := mix64(seed ^ 0x5851f42d4c957f2d)
	h = mix64(h ^ fnv64(purpose))
	for _, id := range ids {
		h = mix64(h ^ id)
	}
	return h
}

// uniform returns a number in [0, 1) for the decision key names.
func uniform(seed uint64, purpose string, ids ...uint64) float64 {
	return float64(key(seed, purpose, ids...)>>11) / (1 << 53)
}

// rng returns a generator for a sequence of choices about one thing.
func rng(seed uint64, purpose string, ids ...uint64) *rand.Rand {
	k := key(seed, purpose, ids...)
	return rand.New(rand.NewPCG(k, mix64(k^0x2545f4914f6cdd1d)))
}
