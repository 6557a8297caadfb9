variable "artifact" {
  type = object({ bucket = string, key = string, sha256 = string })
}
