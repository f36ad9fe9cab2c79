package session

// ViaOperator: a security administrator ended every session of the
// account from the console (the citizen asked on the hotline, or the
// account is at risk); EndUser with it signs the account out everywhere.
const ViaOperator = "operator"
