package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestMirroredAlternatesTheSystemsRoundByRound(t *testing.T) {
	for _, tc := range []struct {
		name    string
		n, k    int
		ordered []int
	}{
		{"one round of two", 1, 2, []int{0, 1}},
		{"two systems", 3, 2, []int{0, 1, 1, 0, 0, 1}},
		{"three systems", 2, 3, []int{0, 1, 2, 2, 1, 0}},
		{"three systems, odd rounds", 3, 3, []int{0, 1, 2, 2, 1, 0, 0, 1, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			order := mirrored(tc.n, tc.k)
			assert.Equal(t, tc.ordered, order)
			runs := make([]int, tc.k)
			for _, i := range order {
				runs[i]++
			}
			for i, r := range runs {
				assert.Equal(t, tc.n, r, "system %d runs every round", i)
			}
		})
	}
}
