"""What Snipe-IT's asset exports mean: their columns, status labels and categories as bir's fields.

The CSV import (`bir.write.importers`) reads these exports without a mapping file; a mapping file may
name one of these columns to read another tool's column the same way.
"""

from __future__ import annotations

import re

# Snipe-IT's asset exports (the Custom Asset Report, the asset list's export, the import sample), English
# headers -> a field path, a special reader (`@name`), or `custom.snipeit.<key>` for what bir has no field for
# (kept, never dropped). Sources: Snipe-IT's ReportsController::postCustom and AssetPresenter column titles
# (resources/lang/en-US: admin/hardware/table.php, admin/hardware/form.php, general.php).
_SNIPE_CUSTOM = ("ID", "Company", "Model No.", "Model Number", "Current Value", "Diff", "Fully Depreciated", "EOL Rate",
                 "Default Location", "Address", "City", "State", "Country", "Zip", "Type", "Checked Out Asset Tag", "Username",
                 "User Company", "Email", "Employee No.", "Employee Number", "Manager", "Department", "Title", "Phone",
                 "User Address", "User City", "User State", "User Country", "User Zip", "Last Checkin Date",
                 "Expected Checkin Date", "Expected Checkin", "Created At", "Updated At", "Updated at", "Deleted", "Last Audit",
                 "Next Audit Date", "URL", "Image", "Device Image", "Age", "Checkins", "Checkouts", "Requests",
                 "Requestable", "Purchase Order", "Checked Out")


SNIPE_IT: dict[str, str | None] = {
    "Asset Tag": "asset_tag",
    "Name": "name",
    "Asset Name": "name",
    "Serial": "serial_number",
    "Model": "model",
    "Category": "@class",
    "Status": "@status",
    "Purchase Date": "@financial.purchase_date",
    "Purchased": "@financial.purchase_date",
    "Purchase Cost": "@financial.purchase_cost",
    "Cost": "@financial.purchase_cost",
    "Supplier": "@supplier",
    "Location": "@location",
    "Warranty Months": "@warranty_months",
    "Warranty": "@warranty_months",
    "Warranty Expires": "@warranty_end",
    "Order Number": "financial.order_number",
    "Notes": "description",
    "Manufacturer": "@manufacturer",
    "Checked Out To": "@assigned_to",
    "MAC Address": "@mac_addresses",
    "EOL": "@end_of_life",
    "EOL Date": "@end_of_life",
    "Checkout Date": "@status_dates.in_use",
    "Last Checkout": "@status_dates.in_use",
    **{name: "custom.snipeit." + re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") for name in _SNIPE_CUSTOM},
}


# A Snipe-IT status label type (the "(type)" after the label in the Custom Asset Report) -> state.
SNIPE_STATUS_TYPE = {"deployed": "in_use", "deployable": "in_stock", "pending": "in_stock", "undeployable": "in_maintenance",
                     "archived": "retired"}


SNIPE_STATUS = {  # Snipe-IT's default status labels
    "ready to deploy": "in_stock", "broken - not fixable": "retired", "deployable": "in_stock", "deployed": "in_use", "pending": "ordered",
    "archived": "retired", "broken": "in_maintenance", "out for repair": "in_maintenance",
    "out for diagnostics": "in_maintenance",
    "lost/stolen": "lost", "lost": "lost", "stolen": "stolen", "undeployable": "in_stock", "in use": "in_use",
}


CATEGORY_CLASS = {
    "laptop": "laptop", "laptops": "laptop", "notebook": "laptop", "notebooks": "laptop",
    "desktop": "desktop", "desktops": "desktop", "pc": "desktop", "workstation": "desktop",
    "server": "server", "servers": "server",
    "phone": "phone", "phones": "phone", "mobile phone": "phone", "mobile phones": "phone", "smartphone": "phone",
    "tablet": "tablet", "tablets": "tablet",
    "monitor": "monitor", "monitors": "monitor", "display": "monitor", "displays": "monitor",
    "printer": "printer", "printers": "printer",
    "switch": "network_device", "switches": "network_device", "router": "network_device", "routers": "network_device",
    "firewall": "network_device", "access point": "network_device", "networking": "network_device",
    "network": "network_device", "network device": "network_device",
    "storage": "storage", "nas": "storage", "san": "storage",
}
