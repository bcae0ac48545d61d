"""Small source tables in the curated formats, for the dataset generator's tests.

Real rows (a few established drugs and their indications; facts from well-known fiction), few enough
that a build over them takes seconds. The committed release uses the full tables in
benchmark/truthstab/data/sources/.
"""

from __future__ import annotations

from pathlib import Path

MEDICINE = """drug,indication,drug_class,label_basis
metformin,type 2 diabetes mellitus,biguanide,FDA label
lisinopril,hypertension,ACE inhibitor,FDA label
lisinopril,heart failure,ACE inhibitor,FDA label
enalapril,hypertension,ACE inhibitor,FDA label
enalapril,heart failure,ACE inhibitor,FDA label
atorvastatin,hypercholesterolemia,statin,FDA label
simvastatin,hypercholesterolemia,statin,FDA label
omeprazole,gastroesophageal reflux disease,proton pump inhibitor,FDA label
omeprazole,peptic ulcer disease,proton pump inhibitor,FDA label
sertraline,major depressive disorder,SSRI,FDA label
sertraline,panic disorder,SSRI,FDA label
fluoxetine,major depressive disorder,SSRI,FDA label
fluoxetine,bulimia nervosa,SSRI,FDA label
levothyroxine,hypothyroidism,thyroid hormone,FDA label
salbutamol,asthma,beta2 agonist,EMA label
allopurinol,gout,xanthine oxidase inhibitor,FDA label
warfarin,deep vein thrombosis,vitamin K antagonist,FDA label
warfarin,pulmonary embolism,vitamin K antagonist,FDA label
amoxicillin,otitis media,penicillin,FDA label
amoxicillin,community-acquired pneumonia,penicillin,FDA label
ondansetron,chemotherapy-induced nausea and vomiting,5-HT3 antagonist,FDA label
sumatriptan,migraine,triptan,FDA label
donepezil,Alzheimer's disease,cholinesterase inhibitor,FDA label
levodopa,Parkinson's disease,dopamine precursor,FDA label
"""

CITIES = """subject,object,universe,work,medium
Minas Tirith,Gondor,Middle-earth,The Lord of the Rings,novel
Osgiliath,Gondor,Middle-earth,The Lord of the Rings,novel
Edoras,Rohan,Middle-earth,The Lord of the Rings,novel
Hobbiton,the Shire,Middle-earth,The Lord of the Rings,novel
the Shire,Eriador,Middle-earth,The Lord of the Rings,novel
Bree,Eriador,Middle-earth,The Lord of the Rings,novel
King's Landing,the Crownlands,Westeros,A Song of Ice and Fire,novel
Winterfell,the North,Westeros,A Song of Ice and Fire,novel
Lannisport,the Westerlands,Westeros,A Song of Ice and Fire,novel
"""

MEDICINE_FICTION = """subject,object,universe,work,medium
Pepperup Potion,the common cold,Wizarding World,Harry Potter,novel
Skele-Gro,lost bones,Wizarding World,Harry Potter,novel
Wolfsbane Potion,lycanthropy,Wizarding World,Harry Potter,novel
Mandrake Restorative Draught,petrification,Wizarding World,Harry Potter,novel
athelas,the Black Breath,Middle-earth,The Lord of the Rings,novel
"""

DEFINITIONS_FICTION = """relation,subject,object,universe,work,medium
instance_of,Shadowfax,horse,Middle-earth,The Lord of the Rings,novel
instance_of,Gandalf,wizard,Middle-earth,The Lord of the Rings,novel
instance_of,Smaug,dragon,Middle-earth,The Hobbit,novel
type_of,Hobbit,halfling,Middle-earth,The Lord of the Rings,novel
synonym_of,muggle,non-magical person,Wizarding World,Harry Potter,novel
instance_of,Hedwig,owl,Wizarding World,Harry Potter,novel
instance_of,Buckbeak,hippogriff,Wizarding World,Harry Potter,novel
"""


def write_sources(folder: Path) -> Path:
    """Write the four tables into ``folder`` and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "medicine_indications.csv").write_text(MEDICINE, encoding="utf-8")
    (folder / "fictional_cities.csv").write_text(CITIES, encoding="utf-8")
    (folder / "fictional_medicine.csv").write_text(MEDICINE_FICTION, encoding="utf-8")
    (folder / "fictional_definitions.csv").write_text(DEFINITIONS_FICTION, encoding="utf-8")
    return folder
