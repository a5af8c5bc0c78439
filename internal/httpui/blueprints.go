package httpui

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sentry-access/sentry-access/internal/changes"
	"github.com/sentry-access/sentry-access/internal/sentryaccess"
	"github.com/sentry-access/sentry-access/web"
)

// mayRequestBlueprints reports whether the signed-in user's role may turn a
// plan into a change request (the route requires approver, see routes.go).
func mayRequestBlueprints(c echo.Context) bool {
	return actor(c).Role.AtLeast(sentryaccess.RoleApprover)
}

// handleBlueprints is /blueprints, with ?sample= loading a shipped one.
func (s *Server) handleBlueprints(c echo.Context) error {
	if _, err := s.changesSvc(); err != nil {
		return err
	}
	samples, err := s.blueprintSamples()
	if err != nil {
		return err
	}
	v := web.BlueprintsView{Samples: samples, CanRequest: mayRequestBlueprints(c)}
	if name := c.QueryParam("sample"); name != "" {
		i := sampleIndex(samples, name)
		if i < 0 {
			return sentryaccess.Errorf(sentryaccess.ENOTFOUND, "")
		}
		v.YAML = samples[i].YAML
	}
	return s.page(c, http.StatusOK, "Blueprints", web.NavBlueprints, web.BlueprintsPage(v))
}

func sampleIndex(samples []changes.BlueprintSample, file string) int {
	for i, bp := range samples {
		if bp.File == file {
			return i
		}
	}
	return -1
}

// handleBlueprintPlan plans posted YAML: the plan fragment, or 422 with
// the parse or plan error.
func (s *Server) handleBlueprintPlan(c echo.Context) error {
	svc, err := s.changesSvc()
	if err != nil {
		return err
	}
	v := web.BlueprintPlanView{YAML: c.FormValue("yaml"), CanRequest: mayRequestBlueprints(c)}
	bp, err := changes.ParseBlueprint([]byte(v.YAML))
	if err == nil {
		v.Name, v.Expires = bp.Name, bp.Expires
		v.Draft, err = svc.PlanBlueprint(c.Request().Context(), actor(c), bp)
	}
	status := http.StatusOK
	if err != nil {
		if v.Error = sentryaccess.ErrorMessage(err); v.Error == "" {
			return err
		}
		status = http.StatusUnprocessableEntity
	}
	if !wantsFragment(c.Request()) {
		page := web.BlueprintsView{YAML: v.YAML, Plan: &v, CanRequest: v.CanRequest}
		return s.page(c, status, "Blueprints", web.NavBlueprints, web.BlueprintsPage(page))
	}
	c.Response().Header().Add("Vary", "HX-Request")
	return s.render(c, status, web.BlueprintPlan(v))
}

// handleBlueprintRequest turns posted YAML into a change request.
func (s *Server) handleBlueprintRequest(c echo.Context) error {
	svc, err := s.changesSvc()
	if err != nil {
		return err
	}
	bp, err := changes.ParseBlueprint([]byte(c.FormValue("yaml")))
	if err != nil {
		return s.invalidOr(c, err)
	}
	r, err := svc.CreateFromBlueprint(c.Request().Context(), actor(c), bp, trimmed(c.FormValue("justification")))
	if err != nil {
		return s.invalidOr(c, err)
	}
	return redirectToChange(c, r)
}

// handleBlueprintPlanTerraform downloads the posted blueprint's plan as
// Terraform (changes.BlueprintHCL); a blueprint that cannot be read or
// planned is a 422 naming why.
func (s *Server) handleBlueprintPlanTerraform(c echo.Context) error {
	svc, err := s.changesSvc()
	if err != nil {
		return err
	}
	bp, err := changes.ParseBlueprint([]byte(c.FormValue("yaml")))
	if err != nil {
		return s.invalidOr(c, err)
	}
	b, err := svc.BlueprintTerraform(c.Request().Context(), actor(c), bp)
	if err != nil {
		return s.invalidOr(c, err)
	}
	name := "blueprint-" + changes.Slugify(bp.Name) + ".tf"
	h := c.Response().Header()
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	h.Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", b)
}

func (s *Server) handleBlueprintExport(c echo.Context) error {
	return s.export(c, "blueprint.yaml", "application/yaml", changes.FormatBlueprint)
}

func (s *Server) handleTerraformExport(c echo.Context) error {
	return s.export(c, "sentry-access.tf", "text/plain; charset=utf-8", changes.FormatTerraform)
}

// export downloads the current organization in format as file name.
func (s *Server) export(c echo.Context, name, ctype string, format changes.ExportFormat) error {
	svc, err := s.changesSvc()
	if err != nil {
		return err
	}
	b, err := svc.Export(c.Request().Context(), format)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	h.Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, ctype, b)
}
