# OIDC roles module (fixture)
