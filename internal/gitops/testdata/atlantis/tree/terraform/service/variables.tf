variable "name" { type = string }
variable "artifact" { type = any }
