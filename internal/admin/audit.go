package admin

// AuditDeps are what the audit area of the console works with.
type AuditDeps struct{}

// auditRoutes lists the audit area's endpoints.
func (c *ConsoleAPI) auditRoutes() []consoleRoute { return nil }
