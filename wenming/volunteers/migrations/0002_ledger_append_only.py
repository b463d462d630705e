from django.db import migrations

from wenming.lib.append_only import append_only


class Migration(migrations.Migration):
    dependencies = [("volunteers", "0001_initial")]
    operations = [append_only("volunteers_servicerecord")]
