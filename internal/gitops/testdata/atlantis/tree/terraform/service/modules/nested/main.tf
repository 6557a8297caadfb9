# nested module, reached through terraform/service
