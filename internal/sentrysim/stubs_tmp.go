package sentrysim

func (s *Server) putOrg(c *call)            { c.detail(501, "Not implemented by the simulator yet.") }
func (s *Server) inviteMember(c *call)      { c.detail(501, "Not implemented by the simulator yet.") }
func (s *Server) putMember(c *call)         { c.detail(501, "Not implemented by the simulator yet.") }
func (s *Server) deleteMember(c *call)      { c.detail(501, "Not implemented by the simulator yet.") }
func (s *Server) joinTeam(c *call)          { c.detail(501, "Not implemented by the simulator yet.") }
func (s *Server) putTeamRole(c *call)       { c.detail(501, "Not implemented by the simulator yet.") }
func (s *Server) leaveTeam(c *call)         { c.detail(501, "Not implemented by the simulator yet.") }
func (s *Server) createTeam(c *call)        { c.detail(501, "Not implemented by the simulator yet.") }
func (s *Server) deleteTeam(c *call)        { c.detail(501, "Not implemented by the simulator yet.") }
func (s *Server) linkProjectTeam(c *call)   { c.detail(501, "Not implemented by the simulator yet.") }
func (s *Server) unlinkProjectTeam(c *call) { c.detail(501, "Not implemented by the simulator yet.") }
func (s *Server) putAccessRequest(c *call)  { c.detail(501, "Not implemented by the simulator yet.") }
func (s *Server) createOrgToken(c *call)    { c.detail(501, "Not implemented by the simulator yet.") }
func (s *Server) deleteOrgToken(c *call)    { c.detail(501, "Not implemented by the simulator yet.") }
func (s *Server) scimListUsers(c *call)     { c.detail(501, "Not implemented by the simulator yet.") }
func (s *Server) scimCreateUser(c *call)    { c.detail(501, "Not implemented by the simulator yet.") }
func (s *Server) scimGetUser(c *call)       { c.detail(501, "Not implemented by the simulator yet.") }
func (s *Server) scimPatchUser(c *call)     { c.detail(501, "Not implemented by the simulator yet.") }
func (s *Server) scimPutUser(c *call)       { c.detail(501, "Not implemented by the simulator yet.") }
func (s *Server) scimDeleteUser(c *call)    { c.detail(501, "Not implemented by the simulator yet.") }
func (s *Server) scimListGroups(c *call)    { c.detail(501, "Not implemented by the simulator yet.") }
func (s *Server) scimCreateGroup(c *call)   { c.detail(501, "Not implemented by the simulator yet.") }
func (s *Server) scimGetGroup(c *call)      { c.detail(501, "Not implemented by the simulator yet.") }
func (s *Server) scimPatchGroup(c *call)    { c.detail(501, "Not implemented by the simulator yet.") }
func (s *Server) scimDeleteGroup(c *call)   { c.detail(501, "Not implemented by the simulator yet.") }
