"""Student Mapping Tool: the application package (services, store, security, UI, CLI)."""

# The one version number (pyproject, About, --version, the frozen build and the MSI read it here).
# Three numbers, each 0-255 for the first two and 0-65535 for the third (Windows Installer rules).
__version__ = "0.2.0"
APP_NAME = "Student Mapping Tool"
APP_ID = "StudentMappingTool"
ORG_NAME = "VicSchools"
