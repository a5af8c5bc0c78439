package access

import "slices"

// Clone returns a deep copy of s: no slice or pointer is shared with s.
// Nil slices stay nil.
func (s *Snapshot) Clone() *Snapshot {
	if s == nil {
		return nil
	}
	c := &Snapshot{
		Org:          s.Org,
		OrgRoles:     slices.Clone(s.OrgRoles),
		TeamRoles:    slices.Clone(s.TeamRoles),
		Members:      slices.Clone(s.Members),
		Teams:        slices.Clone(s.Teams),
		Projects:     slices.Clone(s.Projects),
		Integrations: slices.Clone(s.Integrations),
		Server:       s.Server,
		Caller:       s.Caller,
	}
	c.Server.Fields = slices.Clone(s.Server.Fields)
	c.Caller.TokenScopes = slices.Clone(s.Caller.TokenScopes)
	for i := range c.OrgRoles {
		c.OrgRoles[i].Scopes = slices.Clone(c.OrgRoles[i].Scopes)
	}
	for i := range c.TeamRoles {
		c.TeamRoles[i].Scopes = slices.Clone(c.TeamRoles[i].Scopes)
	}
	for i := range c.Members {
		m := &c.Members[i]
		m.Teams = slices.Clone(m.Teams)
		if m.LastLogin != nil {
			t := *m.LastLogin
			m.LastLogin = &t
		}
		if m.LastActive != nil {
			t := *m.LastActive
			m.LastActive = &t
		}
	}
	for i := range c.Projects {
		c.Projects[i].Teams = slices.Clone(c.Projects[i].Teams)
	}
	for i := range c.Integrations {
		c.Integrations[i].Scopes = slices.Clone(c.Integrations[i].Scopes)
	}
	return c
}
