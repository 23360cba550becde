package main

import (
	"slices"
	"strings"
	"testing"
)

func TestARoleNamesTheFlagsItDoesNotUse(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"a web node takes the source and the trends from the ingest node",
			[]string{"-nats", "nats://127.0.0.1:4222", "-role", "web", "-trends", "a,b", "-mock-rate", "5", "-history", "10", "-max-rooms", "3"},
			[]string{"-history", "-mock-rate", "-trends"}},
		{"an ingest node serves no page",
			[]string{"-nats", "nats://127.0.0.1:4222", "-role", "ingest", "-trends", "a", "-max-rooms", "3", "-flush-interval", "0"},
			[]string{"-flush-interval", "-max-rooms"}},
		{"all uses every flag", []string{"-trends", "a", "-max-rooms", "3", "-history", "10"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseConfig(tt.args, nil, &strings.Builder{})
			if err != nil {
				t.Fatal(err)
			}
			got := slices.Sorted(slices.Values(cfg.ignored))
			if !slices.Equal(got, tt.want) {
				t.Errorf("ignored %v, want %v", got, tt.want)
			}
		})
	}
}
