package review

import (
	"fmt"
	"strings"
)

func rowClass(d Decision) string {
	switch d {
	case DecisionRevoke:
		return "revoke"
	case DecisionNone:
		return "none"
	}
	return "certify"
}

// ContextText is an item's context in one line: reach, activity, SSO,
// SCIM and risk flags.
func ContextText(it Item) string { return contextText(it) }

func contextText(it Item) string {
	x := it.Context
	var parts []string
	if x.Global {
		parts = append(parts, fmt.Sprintf("reaches all %d projects", x.Projects))
	} else {
		parts = append(parts, fmt.Sprintf("reaches %d projects", x.Projects))
	}
	if it.Kind != KindIntegration {
		parts = append(parts, "last login "+ptrDateText(x.LastLogin), "last active "+ptrDateText(x.LastActive))
		sso := "SSO not linked"
		if x.SSOLinked && !x.SSOInvalid {
			sso = "SSO linked"
		} else if x.SSOInvalid {
			sso = "SSO invalid"
		}
		parts = append(parts, sso)
		if x.SCIMProvisioned {
			parts = append(parts, "SCIM-provisioned")
		}
	}
	if len(x.Risks) > 0 {
		parts = append(parts, "risks: "+strings.Join(x.Risks, ", "))
	}
	return strings.Join(parts, "; ")
}
