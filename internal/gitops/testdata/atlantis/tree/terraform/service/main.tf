locals {
  body = templatefile("${path.module}/openapi.yaml.tftpl", { name = var.name })
}

module "nested" {
  source = "./modules/nested"
}
