package main

import (
	"flag"
	"strings"
)

// envPrefix starts the name of every variable that sets a flag (see
// envName); a variable with it that names no flag is reported.
const envPrefix = "TS_"

// lookupEnv returns a getenv over environ, a list of KEY=value as
// os.Environ returns it. The first of two entries for one key wins, as it
// does for os.Getenv.
func lookupEnv(environ []string) func(string) string {
	vars := make(map[string]string, len(environ))
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		if _, dup := vars[k]; !dup {
			vars[k] = v
		}
	}
	return func(k string) string { return vars[k] }
}

// strayVar is a TS_ variable that names no flag, and the one it was
// probably meant to be, if one is close.
type strayVar struct {
	name, meant string
}

// strayEnv returns the TS_ variables in environ that name no flag of the
// sets, in the order they come: a typo (TS_ADDRESS for TS_ADDR) would
// otherwise leave the flag at its default without a word. The variables
// the program reads besides the flags (TWITTER_*) have no TS_ prefix.
func strayEnv(environ []string, sets ...*flag.FlagSet) []strayVar {
	known := map[string]bool{}
	for _, fs := range sets {
		fs.VisitAll(func(f *flag.Flag) { known[envName(f.Name)] = true })
	}
	var stray []strayVar
	seen := map[string]bool{}
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, envPrefix) || known[name] || seen[name] {
			continue
		}
		seen[name] = true
		stray = append(stray, strayVar{name: name, meant: closestEnv(name, known)})
	}
	return stray
}

// closestEnv returns the known name that name was probably meant to be:
// one that starts the other (TS_ADDRESS, TS_ADDR), or else the nearest
// within maxTypos edits; "" when none is close. Ties go to the name
// first in alphabetical order, so the advice is the same on every run.
func closestEnv(name string, known map[string]bool) string {
	// maxTypos is how many letters a typo may get wrong and still be
	// recognised: more suggests names that merely look alike.
	const maxTypos = 2
	best, bestDist := "", maxTypos+1
	for k := range known {
		d := editDistance(name, k)
		if strings.HasPrefix(name, k) || strings.HasPrefix(k, name) {
			d = min(d, 1) // a prefix is as likely as one typo
		}
		if d < bestDist || (d == bestDist && k < best) {
			best, bestDist = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes:
// variable names are ASCII.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
