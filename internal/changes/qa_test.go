package changes_test

import (
	"strings"
	"testing"

	"github.com/sentry-access/sentry-access/internal/changes"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// The form numbers steps from 1 ("Step 1"); so do the messages about them.
func TestStepMessagesNumberStepsAsTheFormDoes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		step changes.Step
		want string
	}{
		{"the first step, missing its team", changes.Step{Index: 0, Kind: changes.KindTeamAdd}, "Step 1 (Add member to team) needs"},
		{"the third step, of no known kind", changes.Step{Index: 2, Kind: "nope"}, "Step 3 has no kind sentry-access knows"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.step.Validate()
			if msg := sentryaccess.ErrorMessage(err); sentryaccess.ErrorCode(err) != sentryaccess.EINVALID || !strings.HasPrefix(msg, tt.want) {
				t.Errorf("Validate() = %v, want an EINVALID error saying %q", err, tt.want)
			}
		})
	}
	t.Run("a viewer asking for someone else", func(t *testing.T) {
		t.Parallel()
		steps := []changes.Step{
			{Index: 0, Kind: changes.KindTeamAdd, Params: changes.Params{Member: "1", Team: "a"}},
			{Index: 1, Kind: changes.KindTeamAdd, Params: changes.Params{Member: "2", Email: "bo@x", Team: "a"}},
		}
		err := changes.DefaultPolicy().CanRequest(sentryaccess.Actor{Email: "v@x", Role: sentryaccess.RoleViewer}, "1", steps)
		if want := "step 2 names bo@x"; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CanRequest = %v, want it to say %q", err, want)
		}
	})
}
