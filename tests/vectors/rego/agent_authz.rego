package agent.authz
default allow = false
allow if {
    input.agent.role == "reviewer"
    input.action == "comment"
    input.resource.type == "pull_request"
}
allow if {
    input.agent.role == "deployer"
    input.action == "deploy"
    input.resource.env == "staging"
}
require_approval if {
    input.action == "deploy"
    input.resource.env == "production"
}
