"""Student Mapping Tool: the application package (services, store, security, UI, CLI)."""

__version__ = "0.1.0"
APP_NAME = "Student Mapping Tool"
APP_ID = "StudentMappingTool"
ORG_NAME = "VicSchools"
